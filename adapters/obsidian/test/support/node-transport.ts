// Transport for tests outside Obsidian: Node's fetch, with network failures sorted like requestUrl's.

import { type HttpRequest, type HttpResponse, type Transport, TransportError } from "../../src/client";

export const nodeTransport: Transport = async (req: HttpRequest): Promise<HttpResponse> => {
  const headers: Record<string, string> = { ...req.headers };
  if (req.contentType) headers["Content-Type"] = req.contentType;
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers, body: req.body, redirect: "manual" });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? "";
    const message = `${(err as Error).message}${cause ? `: ${cause.code ?? ""} ${cause.message ?? ""}` : ""}`;
    throw new TransportError(code === "ECONNREFUSED" ? "refused" : code === "ETIMEDOUT" ? "timeout" : "unreachable", message);
  }
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    out[k] = v;
  });
  return { status: res.status, headers: out, body: await res.arrayBuffer() };
};
