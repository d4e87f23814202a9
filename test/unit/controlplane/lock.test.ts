import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireDirectoryLock } from "../../../src/controlplane/lock.js";

describe("the build lock", () => {
  it("lets only one holder in at a time and hands over on release", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "lock-")), "l.lock");
    const first = await acquireDirectoryLock(dir, () => undefined);
    let waited = false;
    let secondAcquired = false;
    const second = acquireDirectoryLock(dir, () => {
      waited = true;
    }).then((lock) => {
      secondAcquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waited).toBe(true);
    expect(secondAcquired).toBe(false);
    await first.release();
    await (await second).release();
    expect(secondAcquired).toBe(true);
  });

  it("takes over a lock whose owner process is dead", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "lock-")), "l.lock");
    await mkdir(dir);
    // pid 2^22 + 1 is above Linux's pid_max limit, so no live process can have it.
    await writeFile(join(dir, "pid"), String(4_194_305));
    const lock = await acquireDirectoryLock(dir, () => {
      throw new Error("must not wait for a dead owner");
    });
    await lock.release();
  });
});
