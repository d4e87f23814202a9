import { type FileHandle, open, unlink } from "node:fs/promises";
import { PluginError } from "./exit.js";

/**
 * A new binary file (a QR code image), readable by its owner only, claimed before the object it
 * comes from is created: an existing file is never overwritten.
 */
export class NewPrivateFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  private written = false;

  static async claim(path: string): Promise<NewPrivateFile> {
    try {
      return new NewPrivateFile(path, await open(path, "wx", 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new PluginError(`${path} exists: refusing to overwrite it; choose another file`);
      throw new PluginError(`cannot create ${path}: ${(error as Error).message}`);
    }
  }

  async write(content: Uint8Array): Promise<void> {
    // open()'s mode is filtered by the umask; the file must end up 0600 whatever it is.
    await this.handle.chmod(0o600);
    await this.handle.writeFile(content);
    await this.handle.close();
    this.written = true;
  }

  /** Removes the claimed file when nothing came to fill it; a written file stays. */
  async abandon(): Promise<void> {
    if (this.written) return;
    await this.handle.close();
    await unlink(this.path);
  }
}
