// The logger of a gateway under test: silent unless LOG_LEVEL says otherwise. test/run.sh runs the whole suite at
// LOG_LEVEL=debug with LOG_FILE set, then checks that no secret the tests used appears in that file
// (test/support/secrets-check.ts).
import { createLogger, levelFromEnv, type Logger } from '../../core/log.ts';

export function testLogger(scope: string): Logger {
  return createLogger(scope, levelFromEnv('silent'));
}
