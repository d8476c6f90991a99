/**
 * The whole HTTP suite (test/http) and the conformance suite (test/conformance) once more, on the
 * S3 driver against s3rver (WHARF_TEST_STORAGE=s3, see test/helpers/object-store.ts), in a child
 * test run whose failures are printed here.
 */
import { it } from 'node:test';
import { runHttpSuitesOn } from '../helpers/child-suites.js';

it('the HTTP and conformance suites pass on the S3 driver (s3rver)', { timeout: 30 * 60_000 }, () => runHttpSuitesOn('s3'));
