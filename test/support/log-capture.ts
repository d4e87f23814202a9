import { Writable } from "node:stream";

/** Everything a logger wrote during a test, to scan for leaked secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(chunk.toString("utf8"));
    done();
  }
  text(): string {
    return this.lines.join("");
  }
}
