/** Resolves a secret by name at execution time; its value is never stored. */
export interface SecretProvider {
  /** The value, or undefined when there is no such secret. */
  get(name: string): Promise<string | undefined>;
}
