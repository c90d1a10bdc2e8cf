import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { GENDER_CLASSIFIER, createGenderClassifier } from '@crowdlens/models';
import { LOGGER } from '@crowdlens/common';
import type { Logger } from 'pino';
import { JpegDecoder } from './adapters/jpeg-decoder';
import { InferenceMetrics } from './services/inference-metrics';
import { InferenceService } from './services/inference.service';
import { ActiveModelService } from './services/active-model.service';
import { INFERENCE_CONTROLLERS } from './controllers';

@Module({
  controllers: INFERENCE_CONTROLLERS,
  providers: [
    {
      provide: GENDER_CLASSIFIER,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger) =>
        createGenderClassifier(config.model, logger.child({ component: 'model' })),
    },
    JpegDecoder,
    InferenceMetrics,
    InferenceService,
    ActiveModelService,
  ],
  exports: [InferenceService],
})
export class InferenceModule {}
