import { join } from 'node:path';
// The module itself, not the @crowdlens/runtime barrel: this runs in detector worker threads.
import { repoRoot } from '@crowdlens/runtime/repo-root';

/** The committed NanoDet-g model (see assets/models/nanodet-g/NOTICE.md and scripts/models/convert-nanodet.sh). */
export function defaultNanodetModelPath(): string {
  return join(repoRoot(), 'assets/models/nanodet-g/nanodet-g.onnx');
}
