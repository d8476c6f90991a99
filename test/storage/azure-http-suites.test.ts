/**
 * The whole HTTP suite (test/http) and the conformance suite (test/conformance) once more, on the
 * azure driver against azurite (WHARF_TEST_STORAGE=azure, see test/helpers/object-store.ts), in a
 * child test run whose failures are printed here.
 */
import { it } from 'node:test';
import { runHttpSuitesOn } from '../helpers/child-suites.js';

it('the HTTP and conformance suites pass on the azure driver (azurite)', { timeout: 30 * 60_000 }, () => runHttpSuitesOn('azure'));
