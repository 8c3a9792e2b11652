// The dialplan plugin's config routes moved to config-routes.ts (registerDialplanConfigRoutes), where every plugin
// keeps them; this name stays until index.ts imports from there.
export { registerDialplanConfigRoutes as registerRoutes, DIALPLAN_FILE, isDialplanContext } from './config-routes.ts';
