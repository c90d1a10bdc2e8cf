import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/** Validates a request part with a zod schema; a bad parameter is a 400 that names the field and the reason. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const reasons = result.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`);
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: reasons });
  }
}
