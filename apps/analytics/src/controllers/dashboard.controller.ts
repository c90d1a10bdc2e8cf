import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { dirname, join } from 'node:path';
import { Public, Unlimited } from '@crowdlens/common';
import { repoRoot } from '@crowdlens/runtime';

/** Static files the dashboard needs; an allow-list, so no path ever reaches the filesystem from a URL. */
const ASSETS: Readonly<Record<string, { file: () => string; type: string }>> = {
  'dashboard.js': { file: () => join(repoRoot(), 'apps/analytics/public/dashboard.js'), type: 'text/javascript' },
  'geometry-editor.js': {
    file: () => join(repoRoot(), 'apps/analytics/public/geometry-editor.js'),
    type: 'text/javascript',
  },
  'dashboard.css': { file: () => join(repoRoot(), 'apps/analytics/public/dashboard.css'), type: 'text/css' },
  // chart.js exports only '.', so resolve the package entry and take its sibling.
  'chart.umd.js': { file: () => join(dirname(require.resolve('chart.js')), 'chart.umd.js'), type: 'text/javascript' },
};

/** The dashboard's static shell holds no data: public, so the login form can load. */
@Controller()
@Public()
@Unlimited()
export class DashboardController {
  @Get()
  index(@Res() res: Response): void {
    res.type('text/html').sendFile(join(repoRoot(), 'apps/analytics/public/index.html'));
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() res: Response): void {
    // Own keys only: ASSETS['__proto__'] or ASSETS['constructor'] are not assets.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new NotFoundException('no such asset');
    res.type(asset.type).sendFile(asset.file());
  }
}
