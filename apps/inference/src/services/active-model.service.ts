import { Inject, Injectable } from '@nestjs/common';
import { GENDER_CLASSIFIER, type ClassifierInfo, type GenderClassifier } from '@crowdlens/models';
import type { ActiveModel } from '../dtos/active-model.dto';

/** What the served classifier is and how well it was measured, for users (GET /api/models, dashboard footer). */
@Injectable()
export class ActiveModelService {
  constructor(@Inject(GENDER_CLASSIFIER) private readonly classifier: GenderClassifier) {}

  describe(): ActiveModel {
    return describeModel(this.classifier.info);
  }
}

export function describeModel(info: ClassifierInfo): ActiveModel {
  const card = info.card ?? null;
  const headline = card
    ? `accuracy ${(card.accuracy * 100).toFixed(1)}% on ${card.data.images.toLocaleString('en-US')} images ` +
      `(${card.data.split}, measured ${card.measuredAt.slice(0, 10)})`
    : 'unmeasured: this model carries no model card, so its accuracy is unknown ' +
      '(tools/crowdlens-tools evaluate --attach-card measures one)';
  return {
    name: info.name,
    version: info.version,
    runtime: info.runtime,
    architecture: info.architecture ?? null,
    precision: info.precision ?? null,
    sha256: info.sha256 ?? null,
    measured: card !== null,
    headline,
    card,
  };
}
