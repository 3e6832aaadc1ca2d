// The Function App on the Flex Consumption plan: Python 3.13, the user-assigned identity for everything,
// identity-based connections only (no connection string, no key in any setting).
@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object = {}

@description('azd service name (tag azd-service-name), as in azure.yaml.')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Name of the storage account (host storage, images, queues).')
param storageAccountName string

@description('Blob endpoint of the storage account.')
param storageBlobEndpoint string

@description('Container holding the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string (carries no secret: local auth is off).')
param applicationInsightsConnectionString string

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of one instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Concurrent HTTP requests one instance takes.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Cosmos DB account endpoint.')
param cosmosEndpoint string

@description('Cosmos DB database.')
param cosmosDatabaseName string

@description('Queue of job ids.')
param jobsQueueName string

@description('Queue of webhook deliveries.')
param webhooksQueueName string

@description('Container of generated images.')
param imagesContainerName string

@description('Container of thumbnails.')
param thumbnailsContainerName string

@description('Blob container of reference images and masks received with jobs.')
param inputsContainerName string

@description('Provider used when a request names none; empty: the first configured one.')
param defaultProvider string = ''

@description('Gemini image models offered, comma-separated; the first is the default.')
param geminiModels string

@description('Provider quotas the worker schedules calls by (PROVIDER_QUOTAS); empty: none.')
param providerQuotas string = ''

@description('Key Vault reference to the Gemini key (empty when Gemini is not used).')
param geminiApiKeyReference string = ''

@description('Azure OpenAI endpoint (empty when Azure OpenAI is not used).')
param azureOpenAiEndpoint string = ''

@description('Azure OpenAI deployments as deployment=family pairs.')
param azureOpenAiDeployments string = ''

@description('Azure OpenAI data-plane API version.')
param azureOpenAiApiVersion string

@description('Key Vault reference to an Azure OpenAI key (empty for keyless access with the identity).')
param azureOpenAiApiKeyReference string = ''

@description('Public base URL of the API when a gateway fronts the app (empty to derive it from requests).')
param publicApiBaseUrl string = ''

@description('Serve the playground page at /api/playground.')
@allowed(['true', 'false'])
param playgroundEnabled string = 'true'

@description('Key Vault reference of the API key hash secret; empty when none is stored.')
param apiKeyHashSecretReference string = ''

@description('Key Vault reference of the admin key; empty when none is stored.')
param adminApiKeyReference string = ''

@description('Key Vault reference of the permanent image links\' signing keys; empty when none are stored.')
param imageLinkSigningKeysReference string = ''

@description('Accepted OIDC token issuer; empty: API keys only.')
param oidcIssuer string = ''

@description('Audience the accepted tokens carry.')
param oidcAudience string = ''

@description('Subnet (delegated to Microsoft.App/environments) the app\'s outbound traffic goes through; empty for none.')
param virtualNetworkSubnetId string = ''

var appSettings = union({
  // Identity-based host storage: the Functions host and the app's SDK clients use the identity.
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // The Python worker's OpenTelemetry switch: it continues the host's trace context in each invocation and
  // tells the host (telemetryMode OpenTelemetry in host.json) that it exports its own logs, so the host
  // does not send them a second time. The app configures the exporter itself (shared/telemetry/setup.py).
  PYTHON_ENABLE_OPENTELEMETRY: 'true'
  COSMOS_ENDPOINT: cosmosEndpoint
  COSMOS_DATABASE: cosmosDatabaseName
  JOBS_QUEUE: jobsQueueName
  WEBHOOKS_QUEUE: webhooksQueueName
  IMAGES_CONTAINER: imagesContainerName
  THUMBNAILS_CONTAINER: thumbnailsContainerName
  INPUTS_CONTAINER: inputsContainerName
  GEMINI_MODELS: geminiModels
  AZURE_OPENAI_API_VERSION: azureOpenAiApiVersion
  PLAYGROUND_ENABLED: playgroundEnabled
}, empty(defaultProvider) ? {} : {
  DEFAULT_PROVIDER: defaultProvider
}, empty(providerQuotas) ? {} : {
  PROVIDER_QUOTAS: providerQuotas
}, empty(geminiApiKeyReference) ? {} : {
  GEMINI_API_KEY: geminiApiKeyReference
}, empty(azureOpenAiEndpoint) ? {} : {
  AZURE_OPENAI_ENDPOINT: azureOpenAiEndpoint
  AZURE_OPENAI_DEPLOYMENTS: azureOpenAiDeployments
}, empty(azureOpenAiApiKeyReference) ? {} : {
  AZURE_OPENAI_API_KEY: azureOpenAiApiKeyReference
}, empty(publicApiBaseUrl) ? {} : {
  PUBLIC_API_BASE_URL: publicApiBaseUrl
}, empty(apiKeyHashSecretReference) ? {} : {
  API_KEY_HASH_SECRET: apiKeyHashSecretReference
}, empty(adminApiKeyReference) ? {} : {
  ADMIN_API_KEY: adminApiKeyReference
}, empty(imageLinkSigningKeysReference) ? {} : {
  IMAGE_LINK_SIGNING_KEYS: imageLinkSigningKeysReference
}, empty(oidcIssuer) ? {} : {
  OIDC_ISSUER: oidcIssuer
  OIDC_AUDIENCE: oidcAudience
})

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy of Flex Consumption is set per region, not on this plan
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_17: client certificates are not part of the API's contract
  // checkov:skip=CKV_AZURE_222: the API is public by design (it is the product); callers authenticate with API keys
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances are a cost choice, not a default
  // checkov:skip=CKV_AZURE_213: the Flex Consumption plan does not support App Service health checks; the platform monitors instances
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      remoteDebuggingEnabled: false
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.13'
      }
    }
  }

}

resource siteSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov reads every sites/config resource as the `web` configuration; these are app settings:
  // checkov:skip=CKV_AZURE_63: HTTP logs of App Service do not apply; the Functions host logs requests to Application Insights
  // checkov:skip=CKV_AZURE_65: detailed error pages of App Service do not apply to a Functions API (errors are JSON envelopes)
  // checkov:skip=CKV_AZURE_66: failed request tracing of App Service does not apply; failures are traced in Application Insights
  // checkov:skip=CKV_AZURE_80: a Python app; there is no .NET Framework version to set
  // checkov:skip=CKV_AZURE_88: the Flex Consumption plan has no Azure Files content share; code deploys from a blob container
  // checkov:skip=CKV_AZURE_13: callers authenticate with API keys checked by the app; App Service Authentication would refuse them
  // checkov:skip=CKV_AZURE_222: the API is public by design (it is the product); callers authenticate with API keys
  parent: functionApp
  name: 'appsettings'
  properties: appSettings
}

// Basic (publishing credential) auth off: deployments use Entra identities.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
