import { join } from 'node:path';
import type { AppConfig, CameraConfig } from '@crowdlens/config';
import { repoRoot } from '@crowdlens/runtime';

/** The bundled sample video, looped in real time: what `npm start` shows when no camera is configured. */
export function withDemoCamera(config: AppConfig): AppConfig {
  if (config.role !== 'embedded' && config.role !== 'ingest') return config;
  if (config.cameras.length > 0) return config;
  const demo: CameraConfig = {
    id: 'demo',
    name: 'Demo entrance (sample video)',
    url: join(repoRoot(), 'assets/sample.mp4'),
    fps: 5,
    width: 640,
    group: 'demo-store',
    loop: true,
    realtime: true,
    lines: [],
    zones: [],
  };
  return { ...config, cameras: [demo] };
}
