import { ValidationError } from './errors.js';

/**
 * Runs what a form's POST does (which answers, usually with a redirect); when
 * the input is refused (a ValidationError), the form is rendered again with
 * the errors instead. Any other error goes on to the error handler.
 * `onError` runs first on any failure, such as removing uploaded files.
 */
export async function orRerender(run: () => unknown, rerender: (error: ValidationError) => unknown, opts: { onError?: () => unknown } = {}): Promise<void> {
  try {
    await run();
  } catch (err) {
    await opts.onError?.();
    if (!(err instanceof ValidationError)) throw err;
    await rerender(err);
  }
}
