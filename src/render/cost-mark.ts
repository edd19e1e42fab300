/**
 * How every view marks a cost clawpulse priced itself from the price table because the source
 * reported none (src/usage/estimate.ts): `~$0.42 est.`, with the same tooltip everywhere. The
 * boxes, the CLI, the dashboard and the Mattermost plugin all go through here, so the marking
 * reads the same in each. Keep this file free of imports: the browser bundles take it whole.
 */

/** the tooltip on a marked cost (the dashboard's and the plugin's `title`) */
export const ESTIMATED_COST_TITLE = 'estimated from the price table: the source reported no cost';

/** `$0.42` → `~$0.42 est.` when estimated; an empty text (nothing spent) stays empty */
export function markEstimatedCost(costText: string, estimated: boolean | undefined): string {
  return costText && estimated ? `~${costText} est.` : costText;
}
