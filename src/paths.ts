import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root, whether running from src/ through tsx or from a compiled dist/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CRDS_DIR = join(PACKAGE_ROOT, "crds");
