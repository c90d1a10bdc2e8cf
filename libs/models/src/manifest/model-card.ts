/**
 * The model card a manifest may carry (`card`), written by
 * tools/crowdlens_tools/model_card.py (`evaluate --attach-card`): how good the
 * model is and for whom, measured on labelled images. A model without one is
 * served as "unmeasured". Change both files together.
 */
import { z } from 'zod';

const Fraction = z.number().min(0).max(1);
const Count = z.number().int().min(0);

const ClassMetricsSchema = z.object({ precision: Fraction, recall: Fraction, f1: Fraction, support: Count }).strict();

export const ModelCardSchema = z
  .object({
    cardVersion: z.literal(1),
    model: z
      .object({ name: z.string(), version: z.string(), sha256: z.string(), file: z.string() })
      .strict()
      .describe('the file the card was measured on'),
    data: z
      .object({ source: z.string(), split: z.string(), images: Count.min(1) })
      .strict()
      .describe('labelled images the card was measured on'),
    measuredAt: z.iso.datetime({ offset: true }),
    accuracy: Fraction,
    perClass: z.object({ female: ClassMetricsSchema, male: ClassMetricsSchema }).strict(),
    confusionMatrix: z
      .object({
        labels: z.tuple([z.literal('female'), z.literal('male')]),
        rowsTrueColumnsPredicted: z.tuple([z.tuple([Count, Count]), z.tuple([Count, Count])]),
      })
      .strict(),
    calibration: z
      .object({
        ece: Fraction.describe('expected calibration error of the top-1 confidence'),
        bins: z.array(
          z
            .object({
              lower: Fraction,
              upper: Fraction,
              count: Count,
              meanConfidence: Fraction.nullable(),
              accuracy: Fraction.nullable(),
            })
            .strict(),
        ),
      })
      .strict(),
    decision: z
      .object({
        threshold: Fraction,
        unknownMargin: z.number().min(0).max(0.5),
        decidedShare: Fraction,
        accuracyWhenDecided: Fraction.nullable(),
      })
      .strict(),
    groups: z
      .array(z.object({ attribute: z.string(), value: z.boolean(), count: Count.min(1), accuracy: Fraction }).strict())
      .describe('accuracy per CelebA attribute group (empty when the data carries no attributes)'),
  })
  .strict();

export type ModelCard = z.infer<typeof ModelCardSchema>;
