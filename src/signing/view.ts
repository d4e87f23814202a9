import { parseQuery } from "./canonical.js";
import type { RequestView } from "./claim.js";
import { deny, type Denial } from "./errors.js";
import { checkRequestShape, indexHeaders, type HttpRequestDescription } from "./request.js";

/** Shape checks, then the header index and parsed query every scheme works from. */
export function prepareRequest(req: HttpRequestDescription): RequestView | Denial {
  const problem = checkRequestShape(req);
  if (problem) return problem;
  const query = parseQuery(req.rawQuery);
  if (!query) return deny("InvalidArgument", "the query string has invalid percent-encoding");
  return { req, headers: indexHeaders(req.headers), query };
}
