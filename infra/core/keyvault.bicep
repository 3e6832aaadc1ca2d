// Key Vault in RBAC mode, holding the provider keys the app reads through Key Vault references (resolved
// by the platform with the app's identity). Secrets are created only when given.
@description('Name of the vault.')
param name string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object = {}

@description('Purge protection (irreversible once on): a deleted vault then cannot be purged for 90 days.')
param purgeProtection bool = false

@description('Disabled when the app reaches the vault through a private endpoint (vnetEnabled).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Deny with a private endpoint (vnetEnabled); Allow when the platform resolves references over the public endpoint.')
@allowed([
  'Allow'
  'Deny'
])
param networkDefaultAction string = 'Allow'

@secure()
@description('Gemini API key; stored as secret gemini-api-key when given.')
param geminiApiKey string = ''

@secure()
@description('Azure OpenAI key; stored as secret azure-openai-api-key when given (otherwise the identity is used).')
param azureOpenAiApiKey string = ''

@secure()
@description('Server secret of the API key hashes; stored as secret api-key-hash-secret when given.')
param apiKeyHashSecret string = ''

@secure()
@description('Key of the admin routes; stored as secret admin-api-key when given.')
param adminApiKey string = ''

@secure()
@description('Signing keys of the permanent image links; stored as secret image-link-signing-keys when given.')
param imageLinkSigningKeys string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: without vnetEnabled, the Flex Consumption platform (no VNet integration) resolves Key Vault references over the public endpoint; access needs an Entra identity with a role (RBAC mode)
  // checkov:skip=CKV_AZURE_189: without vnetEnabled, public network access is needed (same reason as CKV_AZURE_109)
  // checkov:skip=CKV_AZURE_42: purge protection is the purgeProtection parameter (KEY_VAULT_PURGE_PROTECTION), off by default so that azd down --purge frees a dev environment's vault; soft delete is always on
  // checkov:skip=CKV_AZURE_110: same reason as CKV_AZURE_42
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    // Omitted rather than false when off: a vault that has it keeps it, and false is refused then.
    enablePurgeProtection: purgeProtection ? true : null
    enableSoftDelete: true
    // Fixed when the vault is created; a purged vault skips it.
    softDeleteRetentionInDays: 90
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: networkDefaultAction
    }
  }
}

resource geminiSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(geminiApiKey)) {
  // checkov:skip=CKV_AZURE_41: a provider API key has no expiry of its own; an expiring secret would silently break the app (rotate by setting a new version)
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov does not read the properties of a conditional (if) resource in Bicep
  parent: vault
  name: 'gemini-api-key'
  properties: {
    value: geminiApiKey
    contentType: 'text/plain'
  }
}

resource azureOpenAiSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(azureOpenAiApiKey)) {
  // checkov:skip=CKV_AZURE_41: a provider API key has no expiry of its own; an expiring secret would silently break the app (rotate by setting a new version)
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov does not read the properties of a conditional (if) resource in Bicep
  parent: vault
  name: 'azure-openai-api-key'
  properties: {
    value: azureOpenAiApiKey
    contentType: 'text/plain'
  }
}

resource apiKeyHashSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(apiKeyHashSecret)) {
  // checkov:skip=CKV_AZURE_41: the hash secret has no expiry of its own (rotating it invalidates every stored key); an expiring secret would silently break the app (rotate by setting a new version)
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov does not read the properties of a conditional (if) resource in Bicep
  parent: vault
  name: 'api-key-hash-secret'
  properties: {
    value: apiKeyHashSecret
    contentType: 'text/plain'
  }
}

resource adminApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(adminApiKey)) {
  // checkov:skip=CKV_AZURE_41: the admin key has no expiry of its own; an expiring secret would silently break the app (rotate by setting a new version)
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov does not read the properties of a conditional (if) resource in Bicep
  parent: vault
  name: 'admin-api-key'
  properties: {
    value: adminApiKey
    contentType: 'text/plain'
  }
}

resource imageLinkSigningKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(imageLinkSigningKeys)) {
  // checkov:skip=CKV_AZURE_41: the link keys have no expiry of their own (links live as long as their key is listed); an expiring secret would silently break every link (rotate by setting a new version)
  // checkov:skip=CKV_AZURE_114: contentType is set below; checkov does not read the properties of a conditional (if) resource in Bicep
  parent: vault
  name: 'image-link-signing-keys'
  properties: {
    value: imageLinkSigningKeys
    contentType: 'text/plain'
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
// Versionless references: a new secret version is picked up without redeploying.
output geminiApiKeyReference string = empty(geminiApiKey) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/gemini-api-key)'
output azureOpenAiApiKeyReference string = empty(azureOpenAiApiKey) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/azure-openai-api-key)'
output apiKeyHashSecretReference string = empty(apiKeyHashSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/api-key-hash-secret)'
output adminApiKeyReference string = empty(adminApiKey) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/admin-api-key)'
output imageLinkSigningKeysReference string = empty(imageLinkSigningKeys) ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/image-link-signing-keys)'
