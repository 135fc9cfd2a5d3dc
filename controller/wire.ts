/** The one place `xlss controller` meets the real core. */
export { createControllerCore } from './core.js';
