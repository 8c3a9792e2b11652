// Under Bun, the docs page's files are imported as files: `bun build --compile` embeds them in the binary, and
// `bun core/main.ts` gets their paths in node_modules. Node never loads this module (see assets.ts).
import bundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' };
import css from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' };

export default { 'swagger-ui-bundle.js': bundle, 'swagger-ui.css': css } as Record<string, string>;
