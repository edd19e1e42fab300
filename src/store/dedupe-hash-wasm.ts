/**
 * The WebAssembly module of the dedupe hash's byte loop: `dedupe-hash.wat`, compiled with
 * `npx -y -p wabt@1.0.37 wat2wasm src/store/dedupe-hash.wat -o /tmp/h.wasm && base64 -w0 /tmp/h.wasm`.
 * `dedupe-hash.test.ts` checks it gives the JS implementation's lanes.
 */
export const DEDUPE_HASH_WASM =
  'AGFzbQEAAAABBQFgAX8AAwIBAAUDAQABBw4CA21lbQIABGhhc2gAAArwAQHtAQEFf0Hv/bb1fSAAcyEDQdecm44EIQRBufPd8XkhBQJAA0AgASAATw0BIAEtAAAhAiADIAJzQbHz3fF5bCEDIAQgAnNBlcnV+QVsIQQgBSACc0H3lK+veGwhBSABQQFqIQEMAAsLIAMgA0EQdnNB65Svr3hsIAQgBEENdnNBtdzKlXxscyECIAQgBEEQdnNB65Svr3hsIAUgBUENdnNBtdzKlXxscyEEIAUgBUEQdnNB65Svr3hsIAIgAkENdnNBtdzKlXxscyEFQYAIIAI2AgBBhAggBDYCAEGICEEBIAUgAiAEciAFckUbNgIACw==';
