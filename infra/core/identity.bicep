// The app's user-assigned managed identity: every data-plane call (storage, Cosmos DB, Key Vault,
// Application Insights, Azure OpenAI) authenticates with it; no key is stored anywhere.
@description('Name of the identity.')
param name string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
