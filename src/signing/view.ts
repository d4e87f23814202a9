import { parseQuery } from "./canonical.js";
import type { RequestView } from "./claim.js";
import { deny, isDenial, type Denial } from "./errors.js";
import { checkRequestShape, indexHeaders, type HttpRequestDescription } from "./request.js";

/** Shape checks, then the header index and parsed query every scheme works from. */
export function prepareRequest(req: HttpRequestDescription): RequestView | Denial {
  const problem = checkRequestShape(req);
  if (problem) return problem;
  const query = parseQuery(req.rawQuery);
  if (!query) return deny("InvalidArgument", "the query string has invalid percent-encoding");
  return { req, headers: indexHeaders(req.headers), query };
}

/** The signers' entry: a request they cannot describe canonically is a bug in the test using them. */
export function signerView(req: HttpRequestDescription): RequestView {
  const view = prepareRequest(req);
  if (isDenial(view)) throw new Error(`cannot sign: ${view.message}`);
  return view;
}
