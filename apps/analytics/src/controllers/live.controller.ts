import { Controller, Req, Sse, type MessageEvent } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { hasRole, type AuthedRequest } from '@crowdlens/common';
import { LiveService } from '../services/live.service';

@Controller('api/live')
export class LiveController {
  constructor(private readonly live: LiveService) {}

  /** Server-sent events: one snapshot per tick. Camera health is for operators; viewers get counts only. */
  @Sse()
  stream(@Req() req: AuthedRequest): Observable<MessageEvent> {
    const seesCameras = req.principal !== undefined && hasRole(req.principal, 'operator');
    return this.live.snapshots$.pipe(
      map((snap) => ({ type: 'snapshot', data: seesCameras ? snap : { ...snap, cameras: [] } })),
    );
  }
}
