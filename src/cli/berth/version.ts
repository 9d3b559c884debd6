/** Berth's version, as `berth --version`, `version` and the Engine API's /version report it. */
export const VERSION = '0.1.0';
