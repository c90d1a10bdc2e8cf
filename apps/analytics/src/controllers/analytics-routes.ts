import { registerApiRoutes } from '@crowdlens/common';
import { DwellQuerySchema, GroupsQuerySchema, PeakHoursQuerySchema, StatsQuerySchema } from '../dtos/stats-query.dto';
import { GroupComparisonSchema, StatsResultSchema } from '../dtos/stats-response.dto';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/stats',
    tag: 'stats',
    summary: 'Faces and unique visitors by voted gender, with coverage, per camera and bucket (k-anonymised)',
    access: 'viewer',
    query: StatsQuerySchema,
    response: StatsResultSchema,
    responses: { 200: 'series and totals', 400: 'invalid parameter (the reason is in `message`)' },
  },
  {
    method: 'get',
    path: '/api/stats/csv',
    tag: 'stats',
    summary: 'The same series as CSV (coverage as a 0–1 fraction, four decimals)',
    access: 'viewer',
    query: StatsQuerySchema,
    produces: 'text/csv',
    responses: { 200: 'CSV file', 400: 'invalid parameter' },
  },
  {
    method: 'get',
    path: '/api/stats/groups',
    tag: 'stats',
    summary:
      'Stores side by side: one row per camera group (cameras without one under "(no group)") with visitors, gender, coverage, faces and mean dwell (k-anonymised)',
    access: 'viewer',
    query: GroupsQuerySchema,
    response: GroupComparisonSchema,
    responses: { 200: 'one row per group', 400: 'invalid parameter (the reason is in `message`)' },
  },
  {
    method: 'get',
    path: '/api/stats/groups/csv',
    tag: 'stats',
    summary: 'The same store comparison as CSV',
    access: 'viewer',
    query: GroupsQuerySchema,
    produces: 'text/csv',
    responses: { 200: 'CSV file', 400: 'invalid parameter' },
  },
  {
    method: 'get',
    path: '/api/stats/peak-hours',
    tag: 'stats',
    summary: 'Visitors by hour of day in a time zone, busiest first',
    access: 'viewer',
    query: PeakHoursQuerySchema,
    responses: { 200: 'hours', 400: 'invalid parameter' },
  },
  {
    method: 'get',
    path: '/api/stats/dwell',
    tag: 'stats',
    summary:
      "Dwell-time distribution of visitors: each one's time from first to last sighting (their track's lifetime)",
    access: 'viewer',
    query: DwellQuerySchema,
    responses: { 200: 'histogram', 400: 'invalid parameter' },
  },
  {
    method: 'get',
    path: '/api/cameras',
    tag: 'cameras',
    summary: 'Every camera with its live health (URLs redacted)',
    access: 'operator',
    responses: { 200: 'cameras' },
  },
  {
    method: 'get',
    path: '/api/live',
    tag: 'stats',
    summary: 'Server-sent events: a snapshot of the last hour each tick (camera health for operators)',
    access: 'viewer',
    produces: 'text/event-stream',
    responses: { 200: 'event stream' },
  },
]);
