// The key that marks an outputs file `npm run check -- --write-outputs` wrote. No program output
// has this name, and the operator commands say so when they read a file that has it: its account,
// ARNs and ids are placeholders AWS does not know.
export const OFFLINE_OUTPUTS_KEY = "offline";
