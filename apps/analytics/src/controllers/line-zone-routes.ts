import { registerApiRoutes } from '@crowdlens/common';
import { OccupancyQuerySchema, StatsQuerySchema } from '../dtos/stats-query.dto';

registerApiRoutes([
  {
    method: 'get',
    path: '/api/stats/lines',
    tag: 'stats',
    summary: 'Line crossings per line, direction (in/out) and bucket, by voted gender (k-anonymised)',
    access: 'viewer',
    query: StatsQuerySchema,
    responses: { 200: 'totals per line and series', 400: 'invalid parameter (the reason is in `message`)' },
  },
  {
    method: 'get',
    path: '/api/stats/lines/csv',
    tag: 'stats',
    summary: 'The same line crossings as CSV',
    access: 'viewer',
    query: StatsQuerySchema,
    produces: 'text/csv',
    responses: { 200: 'CSV file', 400: 'invalid parameter' },
  },
  {
    method: 'get',
    path: '/api/stats/zones',
    tag: 'stats',
    summary: 'Zone entries by voted gender, people inside per bucket, mean dwell in the zone (k-anonymised)',
    access: 'viewer',
    query: StatsQuerySchema,
    responses: { 200: 'totals per zone and series', 400: 'invalid parameter (the reason is in `message`)' },
  },
  {
    method: 'get',
    path: '/api/stats/zones/csv',
    tag: 'stats',
    summary: 'The same zone series as CSV',
    access: 'viewer',
    query: StatsQuerySchema,
    produces: 'text/csv',
    responses: { 200: 'CSV file', 400: 'invalid parameter' },
  },
  {
    method: 'get',
    path: '/api/occupancy',
    tag: 'stats',
    summary: 'People inside each zone now (1 to k − 1 withheld), with its capacity when configured',
    access: 'viewer',
    query: OccupancyQuerySchema,
    responses: { 200: 'zones', 400: 'invalid parameter' },
  },
]);
