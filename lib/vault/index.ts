export { Secret, writeOnly } from "./secret";
export { Vault, VaultError } from "./vault";
export { loadMasterKey, decodeMasterKey, masterKeyPath, MasterKeyError, MASTER_KEY_BYTES } from "./master-key";

/** Associated data of the sealed Gatehouse CA private key (org_settings.ca_key_sealed). */
export const CA_KEY_AAD = "org_settings.ca_key";
