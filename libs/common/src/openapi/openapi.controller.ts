import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { dirname, join } from 'node:path';
import { Unlimited } from '../auth/roles';
import { registeredApiRoutes } from './api-routes';
import { buildOpenApiDocument } from './openapi-document';

const UI_FILES: Readonly<Record<string, string>> = {
  'swagger-ui-bundle.js': 'text/javascript',
  'swagger-ui.css': 'text/css',
};

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>CrowdLens API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/init.js"></script>
</body></html>`;

/** A file, not an inline script, so the Content-Security-Policy can forbid inline scripts everywhere. */
const INIT_SCRIPT = "window.ui = SwaggerUIBundle({ url: '/api/docs/openapi.json', dom_id: '#ui', withCredentials: true });\n";

/** /api/docs: Swagger UI over the routes this process actually serves. Viewer role, like the data. */
@Controller('api/docs')
export class OpenApiController {
  @Get()
  page(@Res() res: Response): void {
    res.type('text/html').send(PAGE);
  }

  @Get('openapi.json')
  document(): Record<string, unknown> {
    return buildOpenApiDocument(registeredApiRoutes(), '0.1.0');
  }

  @Get('assets/:name')
  @Unlimited()
  asset(@Param('name') name: string, @Res() res: Response): void {
    if (name === 'init.js') {
      res.type('text/javascript').send(INIT_SCRIPT);
      return;
    }
    // Own keys only: UI_FILES['toString'] is a function, not a file.
    const type = Object.hasOwn(UI_FILES, name) ? UI_FILES[name] : undefined;
    if (!type) throw new NotFoundException('no such asset');
    res.type(type).sendFile(join(dirname(require.resolve('swagger-ui-dist/package.json')), name));
  }
}
