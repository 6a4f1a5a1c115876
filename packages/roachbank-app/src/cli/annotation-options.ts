import type { Command } from 'commander';
import { type Metadata, maxMetadataBytes, maxReferenceLength, parseMetadata, parseReference } from 'roachbank';
import { parseStrictJson } from '../input/strict-json.js';

/** `--reference` and `--metadata` as given: checked by the bank's own rules before any connection is made. */
export interface AnnotationOptions {
  readonly reference?: string;
  readonly metadata?: Metadata;
}

/** A reference as an option's value, checked as the bank checks it. */
export const referenceArgument = (value: string) => parseReference(value)!;
/** JSON read as strictly as an HTTP body (a key named twice is refused), then checked as metadata. */
const metadataArgument = (value: string) => parseMetadata(parseStrictJson(value, '--metadata'))!;

/** Adds `--reference` and `--metadata` to a command that writes `what` (whose reference is `inherited`'s when none is given). */
export function annotationOptions(command: Command, what: string, inherited?: string): Command {
  return command
    .option(
      '--reference <text>',
      `what ${what} belongs to outside the bank (an order, an invoice, a payout batch): 1 to ${maxReferenceLength} characters${inherited ? `; default: ${inherited}` : ''}`,
      referenceArgument,
    )
    .option('--metadata <json>', `a JSON object of at most ${maxMetadataBytes} bytes, kept as given`, metadataArgument);
}
