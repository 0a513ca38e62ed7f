import { DateTimeISOResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';

/** ISO-8601 instants (graphql-scalars DateTimeISO). */
export const DateTimeISO = DateTimeISOResolver;
/** Any JSON value. */
export const JSON = JSONResolver;
/** A JSON object (tool inputs). */
export const JSONObject = JSONObjectResolver;
