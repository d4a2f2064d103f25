// One error type for bad or missing data, so the CLI and UI can show the message alone (no stack).

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}
