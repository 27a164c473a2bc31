// Desktop-only access to the OS: where the token file lives and reading it (Node's fs inside Electron).

import { promises as fsp } from "fs";
import { homedir } from "os";
import { OwnvoiceError } from "./errors";
import type { FileReader, PlatformInfo } from "./settings";

export function currentPlatform(): PlatformInfo {
  return { platform: process.platform, env: { ...process.env }, homedir: homedir() };
}

export const nodeFileReader: FileReader = {
  async readText(path: string): Promise<string | null> {
    try {
      const stat = await fsp.stat(path);
      // A token is a short line; anything large is not a token file.
      if (!stat.isFile() || stat.size > 4096) throw new OwnvoiceError(`${path} does not look like a token file`);
      return await fsp.readFile(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      if (err instanceof OwnvoiceError) throw err;
      throw new OwnvoiceError(`cannot read the token file ${path}: ${(err as Error).message}`);
    }
  },
};
