// Transport for the daemon client through Obsidian's requestUrl (no CORS, works in the desktop app).

import { requestUrl } from "obsidian";
import { type HttpRequest, type HttpResponse, type Transport, TransportError } from "./client";

/** Sorts a network error message (Electron's net::ERR_…, Node's E…) into refused / timeout / unreachable. */
export function classifyNetworkError(message: string): TransportError["kind"] {
  if (/CONNECTION_REFUSED|ECONNREFUSED/i.test(message)) return "refused";
  if (/TIMED_OUT|ETIMEDOUT|timeout/i.test(message)) return "timeout";
  return "unreachable";
}

export const obsidianTransport: Transport = async (req: HttpRequest): Promise<HttpResponse> => {
  let res;
  try {
    res = await requestUrl({
      url: req.url,
      method: req.method,
      headers: req.headers,
      body: req.body,
      contentType: req.contentType,
      throw: false, // statuses are handled by the client, which needs the body of error answers
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new TransportError(classifyNetworkError(message), message);
  }
  return { status: res.status, headers: res.headers ?? {}, body: res.arrayBuffer };
};
