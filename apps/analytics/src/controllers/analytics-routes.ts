import { registerApiRoutes } from '@crowdlens/common';
import { DwellQuerySchema, PeakHoursQuerySchema, StatsQuerySchema } from '../dtos/stats-query.dto';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/stats',
    tag: 'stats',
    summary: 'Faces and unique visitors by voted gender, per camera and bucket (k-anonymised)',
    access: 'viewer',
    query: StatsQuerySchema,
    responses: { 200: 'series and totals', 400: 'invalid parameter (the reason is in `message`)' },
  },
  {
    method: 'get',
    path: '/api/stats/csv',
    tag: 'stats',
    summary: 'The same series as CSV',
    access: 'viewer',
    query: StatsQuerySchema,
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
    summary: 'Dwell-time distribution of visitors',
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
