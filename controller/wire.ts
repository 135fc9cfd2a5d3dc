/**
 * The one place `xlss controller` meets the real core.
 *
 * LEAD, AT MERGE: controller/core.ts (from the controller-core branch) exports
 * `createControllerCore(deps: ControllerCoreDeps): ControllerCore`. Replace everything
 * below this comment with:
 *
 *   export { createControllerCore } from './core.js';
 *
 * Until then `xlss controller` stops at start with this error; nothing else depends on
 * this file (tests inject their own core into `startController`).
 */
import { XlssError } from '../common/errors.js';
import type { ControllerCore, ControllerCoreDeps } from './api/service.js';

export function createControllerCore(_deps: ControllerCoreDeps): ControllerCore {
  throw new XlssError(
    'ENOTWIRED',
    'this build has no controller core (controller/wire.ts is not wired to core.ts)',
  );
}
