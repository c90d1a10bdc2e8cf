import { ConfigError } from '@crowdlens/config';
import { ModelValidationError } from '@crowdlens/models';
import { describe, expect, it } from 'vitest';
import { describeBootFailure } from './boot-failure';

describe('describeBootFailure', () => {
  it('prints a refused model as one line with its reason and no stack', () => {
    const err = new ModelValidationError(
      'manifest-missing',
      'cannot read model manifest: ENOENT. run tools/crowdlens-tools export --checkpoint <x.pth> --out m.onnx',
      'm.onnx',
      'm.onnx.manifest.json',
    );
    const failure = describeBootFailure(err);
    expect(failure.exitCode).toBe(3);
    expect(failure.text.split('\n')).toEqual([
      'CrowdLens cannot serve the model [manifest-missing]: cannot read model manifest: ENOENT. ' +
        'run tools/crowdlens-tools export --checkpoint <x.pth> --out m.onnx (model m.onnx, manifest m.onnx.manifest.json)',
      '',
    ]);
  });

  it('prints a config error as its message, exit 2', () => {
    expect(describeBootFailure(new ConfigError('config: http.port: expected number', []))).toEqual({
      text: 'config: http.port: expected number\n',
      exitCode: 2,
    });
  });

  it('keeps the stack of anything unexpected', () => {
    const failure = describeBootFailure(new TypeError('x is undefined'));
    expect(failure.exitCode).toBe(1);
    expect(failure.text).toMatch(/^CrowdLens failed to start: TypeError: x is undefined\n\s+at /);
  });
});
