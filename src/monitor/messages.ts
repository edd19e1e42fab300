/**
 * What a user reads when the uploader cannot do its job: the original skill's steps (sign in on
 * the platform, Settings, generate an Agent Token), ending in the clawpulse command that saves it.
 */
import type { UploadFailure } from './uploader.js';

export function noTokenText(platformUrl: string, credentialsFile: string): string {
  return [
    'No monitor platform token found',
    `(MONITOR_PLATFORM_TOKEN is not set and ${credentialsFile} has no agentToken).`,
    '',
    'To get one:',
    `  1. Visit ${platformUrl}`,
    '  2. Click Sign In / Sign Up to log in or register',
    '  3. After logging in, open the Settings page and generate an Agent Token',
    '  4. Save it: clawpulse monitor login <TOKEN>',
  ].join('\n');
}

export function tokenRejectedText(platformUrl: string, status: number, detail: string): string {
  return [
    `Token validation failed: the monitor platform answered ${status}${detail ? ` (${detail})` : ''}.`,
    'Your token may have expired or is invalid.',
    '',
    'Please obtain a new token:',
    `  1. Log in to ${platformUrl}`,
    '  2. Go to the Settings page',
    '  3. Click Generate to create a new Token',
    '  4. Save it: clawpulse monitor login <TOKEN>',
  ].join('\n');
}

/** one paragraph for a failed upload: what failed and where */
export function failureText(platformUrl: string, f: UploadFailure, attempts: number): string {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  switch (f.kind) {
    case 'auth':
      return tokenRejectedText(platformUrl, f.status, f.detail);
    case 'http':
      return `Upload failed: ${platformUrl}/api/upload answered HTTP ${f.status}${f.detail ? ` (${f.detail})` : ''}${tries}.`;
    case 'network':
      return `Upload failed: could not reach the monitor platform: ${f.detail}${tries}.\nCheck the network connection and the platform URL (monitorUrl in the credentials file, or --url).`;
    case 'aborted':
      return 'Upload stopped before it finished.';
  }
}
