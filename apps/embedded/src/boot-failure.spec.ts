import { ConfigError } from '@crowdlens/config';
import { ModelValidationError } from '@crowdlens/models';
import { createServer, type AddressInfo } from 'node:net';
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

  it('prints a port that is taken as one line naming the address and the setting, exit 4', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const second = createServer();
    const err = await new Promise<unknown>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    holder.close();
    const failure = describeBootFailure(err);
    expect(failure.exitCode).toBe(4);
    expect(failure.text).toBe(
      `CrowdLens cannot listen on 127.0.0.1:${port}: another process already uses that port. ` +
        'Stop it, or choose another port with PORT=<n> (or http.port in the config).\n',
    );
  });
});
