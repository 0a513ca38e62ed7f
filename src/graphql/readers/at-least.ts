/** The description of every read-model query's `atLeast` argument (one text, one meaning). */
export const AT_LEAST =
  'A consistency token (a mutation\'s `extensions.consistencyToken`, from any instance on the same event store): wait until this instance\'s read models have applied it before answering; READ_MODEL_LAGGING if they do not in time.';
