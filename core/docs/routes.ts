// GET /v1/openapi.json, /v1/asyncapi.json and the interactive docs page /v1/docs, all generated from the
// declarations (routes and events) of the plugins enabled in this gateway.yaml.
import { asyncApiDocument, type BrokerDoc } from '../contract/asyncapi.ts';
import type { EventSpec } from '../contract/events.ts';
import { openApiDocument } from '../contract/openapi.ts';
import { route } from '../contract/route.ts';
import { v } from '../contract/schema.ts';
import type { HttpApp, RegisteredRoute } from '../http/app.ts';
import { DOCS_FILES, type DocsFile, loadDocsFiles } from './assets.ts';

export const GATEWAY_VERSION = '0.1.0';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>asterisk-gateway API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/v1/docs/swagger-ui.css">
<style>body{margin:0} .topbar{display:none}</style>
</head>
<body>
<div id="docs"></div>
<script src="/v1/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#docs',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: true,
  displayRequestDuration: true,
});
</script>
</body>
</html>
`;

export interface DocsSources {
  routes(): readonly RegisteredRoute[];
  events(): readonly EventSpec[];
  /** the broker sides plugins declare (nats); none without such a plugin */
  brokers?(): readonly BrokerDoc[];
  plugins(): string[];
}

export async function registerDocsRoutes(http: HttpApp, src: DocsSources): Promise<void> {
  const files = await loadDocsFiles();
  let openapi: string | undefined;
  let asyncapi: string | undefined;
  const json = (text: string) => new Response(text, { headers: { 'content-type': 'application/json; charset=utf-8' } });
  const r = http.router('core');
  r.add(
    route({
      method: 'GET',
      path: '/openapi.json',
      summary: 'This document: OpenAPI 3.1, generated from the route declarations',
      tags: ['docs'],
      public: true,
      responses: { 200: { schema: null, description: 'the OpenAPI document (not in the envelope)', contentType: 'application/json' } },
      handler: () => {
        openapi ??= JSON.stringify(openApiDocument(src.routes(), { version: GATEWAY_VERSION, plugins: src.plugins() }));
        return json(openapi);
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/asyncapi.json',
      summary: "The WebSocket events (and the nats plugin's subjects): AsyncAPI 3, generated from the declarations",
      tags: ['docs'],
      public: true,
      responses: { 200: { schema: null, description: 'the AsyncAPI document (not in the envelope)', contentType: 'application/json' } },
      handler: () => {
        asyncapi ??= JSON.stringify(asyncApiDocument(src.events(), { version: GATEWAY_VERSION }, src.brokers?.() ?? []));
        return json(asyncapi);
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/docs',
      summary: 'The interactive docs page (served offline by the gateway)',
      tags: ['docs'],
      public: true,
      responses: { 200: { schema: null, description: 'an HTML page', contentType: 'text/html' } },
      handler: () => new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/docs/:file',
      summary: "The docs page's own files (Swagger UI)",
      tags: ['docs'],
      public: true,
      params: { file: v.picklist(Object.keys(DOCS_FILES) as [DocsFile, ...DocsFile[]], 'no such file') },
      responses: { 200: { schema: null, description: 'a script or style sheet', contentType: 'application/octet-stream' } },
      handler: (_c, { params }) =>
        new Response(files(params.file), {
          headers: { 'content-type': DOCS_FILES[params.file], 'cache-control': 'public, max-age=86400' },
        }),
    }),
  );
}
