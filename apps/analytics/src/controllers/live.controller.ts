import { Controller, Sse, type MessageEvent } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { LiveService } from '../services/live.service';

@Controller('api/live')
export class LiveController {
  constructor(private readonly live: LiveService) {}

  /** Server-sent events: one snapshot per tick for the dashboard. */
  @Sse()
  stream(): Observable<MessageEvent> {
    return this.live.snapshots$.pipe(map((data) => ({ type: 'snapshot', data })));
  }
}
