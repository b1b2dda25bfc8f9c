export { Secret, writeOnly } from "./secret";
export { Vault, VaultError } from "./vault";
export { loadMasterKey, decodeMasterKey, masterKeyPath, MasterKeyError, MASTER_KEY_BYTES } from "./master-key";
