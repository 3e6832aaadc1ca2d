// The whole service in one resource group: `azd up` provisions this, then deploys the app (azure.yaml).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: part of every resource name and the azd-env-name tag.')
param environmentName string

// The regions that offer the Flex Consumption plan, as listed by Microsoft's Flex Consumption azd template
// (Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep, November 2025); `az functionapp
// list-flexconsumption-locations` prints the current list. azd offers only these when it asks for a region.
@minLength(1)
@description('Region of every resource (one that offers the Flex Consumption plan).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Principal id of the developer running azd; gets data access for running the app against the cloud resources. Empty for none.')
param principalId string = ''

@description('Type of principalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

// --- names (each overridable; by default an abbreviation plus a resource token) ----------------------
@description('Resource group name override.')
param resourceGroupName string = ''
@description('Managed identity name override.')
param identityName string = ''
@description('Storage account name override.')
param storageAccountName string = ''
@description('Cosmos DB account name override.')
param cosmosAccountName string = ''
@description('Key Vault name override.')
param keyVaultName string = ''
@description('Log Analytics workspace name override.')
param logAnalyticsName string = ''
@description('Application Insights name override.')
param applicationInsightsName string = ''
@description('Flex Consumption plan name override.')
param appServicePlanName string = ''
@description('Function App name override.')
param functionAppName string = ''
@description('Event Grid system topic name override.')
param eventGridSystemTopicName string = ''
@description('Virtual network name override (vnetEnabled).')
param virtualNetworkName string = ''

// --- network ----------------------------------------------------------------------------------------
@description('Put storage, Cosmos DB and Key Vault behind private endpoints in a new virtual network, with their public network access off; the Function App reaches them through VNet integration.')
param vnetEnabled bool = false

// --- Key Vault --------------------------------------------------------------------------------------
@description('Purge protection: a deleted vault cannot be purged for 90 days. Off for dev environments (azd down --purge frees the name); turn it on for production. Once on, it stays on.')
param keyVaultPurgeProtection bool = false
@description('Part of the vault name the postdown hook changes after azd down, so that the next azd up never meets the soft-deleted vault.')
@maxLength(6)
param keyVaultNameSuffix string = ''

// --- Function App -----------------------------------------------------------------------------------
@description('Most instances the Function App scales out to.')
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

@description('Public base URL of the API when a gateway fronts the app; empty to derive it from requests.')
param publicApiBaseUrl string = ''

@description('Serve the playground page at /api/playground (a static page calling the public API; it holds no data).')
@allowed(['true', 'false'])
param playgroundEnabled string = 'true'

// --- storage resources (the code's names: shared/resources.py; tests/infra ties the two) ------------
@description('Container of generated images (IMAGES_CONTAINER).')
param imagesContainerName string = 'generated'
@description('Container of thumbnails (THUMBNAILS_CONTAINER).')
param thumbnailsContainerName string = 'thumbnails'
@description('Container of uploaded inputs (reference images, masks), deleted after inputsRetentionDays.')
param inputsContainerName string = 'inputs'
@description('Container of the deployment package.')
param deploymentContainerName string = 'app-package'
@description('Container of undeliverable Event Grid events.')
param deadLetterContainerName string = 'eventgrid-deadletter'
@description('Queue of job ids (JOBS_QUEUE); its poison queue is <name>-poison.')
param jobsQueueName string = 'generation-jobs'
@description('Queue of webhook deliveries; its poison queue is <name>-poison.')
param webhooksQueueName string = 'webhooks'
@description('Days an uploaded input is kept.')
@minValue(1)
param inputsRetentionDays int = 7

// --- Cosmos DB --------------------------------------------------------------------------------------
@description('Database holding all containers (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'imagegen'
@description('serverless, or provisioned autoscale throughput shared by the database.')
@allowed([
  'serverless'
  'provisioned'
])
param cosmosCapacityMode string = 'serverless'
@description('Autoscale maximum RU/s when cosmosCapacityMode is provisioned.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

// --- providers --------------------------------------------------------------------------------------
@description('Provider used when a request names none: gemini or azure-openai; empty: the first configured one.')
@allowed([
  ''
  'gemini'
  'azure-openai'
])
param defaultProvider string = ''
@description('Gemini image models offered, comma-separated; the first is the default.')
param geminiModels string = 'gemini-2.5-flash-image'
@description('Provider quotas the worker schedules calls by (PROVIDER_QUOTAS, see the README); empty: none.')
param providerQuotas string = ''
@secure()
@description('Gemini API key; stored in Key Vault and given to the app as a Key Vault reference.')
param geminiApiKey string = ''

@secure()
@description('Server secret API keys are stored under (HMAC-SHA256); stored in Key Vault. Required for stored API keys.')
param apiKeyHashSecret string = ''

@secure()
@description('Key of the admin routes (/api/v1/admin/api-keys); stored in Key Vault. Empty: the admin routes refuse everyone.')
param adminApiKey string = ''

@secure()
@description('Signing keys of the permanent image links, keyId=secret pairs (the first signs, all verify); stored in Key Vault. Empty: no permanent links.')
param imageLinkSigningKeys string = ''

@description('OIDC issuer whose bearer tokens are accepted (e.g. https://login.microsoftonline.com/<tenant>/v2.0). Empty: API keys only.')
param oidcIssuer string = ''

@description('Audience the bearer tokens must carry (the app registration\'s Application ID URI or client id).')
param oidcAudience string = ''
@description('Name of an existing Azure OpenAI account reached keylessly with the app\'s identity; empty when Azure OpenAI is not used.')
param azureOpenAiAccountName string = ''
@description('Resource group of that account (default: this deployment\'s resource group).')
param azureOpenAiResourceGroupName string = ''
@description('Azure OpenAI deployments as deployment=family pairs (family gpt-image or dall-e-3).')
param azureOpenAiDeployments string = ''
@description('Azure OpenAI data-plane API version.')
param azureOpenAiApiVersion string = '2025-04-01-preview'
@secure()
@description('Azure OpenAI key, only where keyless access is impossible; stored in Key Vault.')
param azureOpenAiApiKey string = ''

// --- Event Grid -------------------------------------------------------------------------------------
@description('Create the Event Grid subscriptions to the app (set by the postdeploy hook once the code is deployed).')
param deployEventSubscriptions bool = false
@secure()
@description('HTTPS endpoint of an external consumer of new images; empty for none.')
param externalEventEndpointUrl string = ''

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppResolvedName = !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}${resourceToken}'
var useAzureOpenAi = !empty(azureOpenAiAccountName)
var keyVaultResolvedName = empty(keyVaultName) ? (empty(keyVaultNameSuffix) ? '${abbrs.keyVaultVaults}${resourceToken}' : '${abbrs.keyVaultVaults}${resourceToken}-${keyVaultNameSuffix}') : keyVaultName
// With vnetEnabled the data services take no public traffic: the app reaches them through its VNet
// integration and their private endpoints.
var publicNetworkAccess = vnetEnabled ? 'Disabled' : 'Enabled'
var networkDefaultAction = vnetEnabled ? 'Deny' : 'Allow'

// Every Cosmos DB container the code uses (shared/resources.py COSMOS_CONTAINERS; tests/infra ties the two).
var cosmosContainers = [
  {
    // Idempotency-Key records; each expires a day after the request.
    name: 'idempotency'
    partitionKeyPath: '/tenantId'
    defaultTtl: 86400
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
    }
  }
  {
    // Each tenant's presets.
    name: 'presets'
    partitionKeyPath: '/tenantId'
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
    }
  }
  {
    // One credit account per tenant and one hold per job; a settled hold carries its own ttl.
    name: 'credits'
    partitionKeyPath: '/tenantId'
    defaultTtl: -1
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
    }
  }
  {
    // Each tenant's webhook signing secret.
    name: 'webhooks'
    partitionKeyPath: '/tenantId'
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
      ]
    }
  }
  {
    // API keys by key id: authenticating a key is one point read.
    name: 'api-keys'
    partitionKeyPath: '/id'
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/tenantId/?'
        }
        {
          path: '/createdAt/?'
        }
      ]
      excludedPaths: [
        {
          path: '/*'
        }
      ]
    }
  }
  {
    // The provider-quota scheduler, one partition per provider/model: lanes, pace, waiting jobs, leases
    // (waiters and leases carry their own ttl). Read by partition only.
    name: 'quotas'
    partitionKeyPath: '/scope'
    defaultTtl: -1
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/scope/?'
        }
      ]
      excludedPaths: [
        {
          path: '/*'
        }
      ]
    }
  }
  {
    // Fixed-window rate-limit counters; each document carries its own ttl.
    name: 'rate-limits'
    partitionKeyPath: '/id'
    defaultTtl: -1
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: []
      excludedPaths: [
        {
          path: '/*'
        }
      ]
    }
  }
  {
    name: 'jobs'
    partitionKeyPath: '/tenantId'
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/"_etag"/?'
        }
        {
          path: '/spec/prompt/?'
        }
        {
          path: '/providerText/?'
        }
      ]
      compositeIndexes: [
        [
          {
            path: '/tenantId'
            order: 'ascending'
          }
          {
            path: '/createdAt'
            order: 'descending'
          }
        ]
        [
          {
            path: '/status'
            order: 'ascending'
          }
          {
            path: '/updatedAt'
            order: 'ascending'
          }
        ]
      ]
    }
  }
]

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: !empty(identityName) ? identityName : '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitor 'core/monitor.bicep' = {
  name: 'monitor'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    containerNames: [
      deploymentContainerName
      imagesContainerName
      thumbnailsContainerName
      inputsContainerName
      deadLetterContainerName
    ]
    queueNames: [
      jobsQueueName
      '${jobsQueueName}-poison'
      webhooksQueueName
      '${webhooksQueueName}-poison'
    ]
    inputsContainerName: inputsContainerName
    inputsRetentionDays: inputsRetentionDays
    publicNetworkAccess: publicNetworkAccess
    networkDefaultAction: networkDefaultAction
  }
}

module cosmos 'core/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: !empty(cosmosAccountName) ? cosmosAccountName : '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containers: cosmosContainers
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    publicNetworkAccess: publicNetworkAccess
  }
}

module keyVault 'core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: keyVaultResolvedName
    location: location
    tags: tags
    purgeProtection: keyVaultPurgeProtection
    publicNetworkAccess: publicNetworkAccess
    networkDefaultAction: networkDefaultAction
    geminiApiKey: geminiApiKey
    azureOpenAiApiKey: azureOpenAiApiKey
    apiKeyHashSecret: apiKeyHashSecret
    adminApiKey: adminApiKey
    imageLinkSigningKeys: imageLinkSigningKeys
  }
}

// The virtual network, and a private endpoint with its private DNS zone for each data service. The
// Functions host needs blob (host storage, deployment package) and queue (triggers) only: no table or
// file share is used on Flex Consumption.
module network 'core/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: !empty(virtualNetworkName) ? virtualNetworkName : '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    privateLinks: [
      {
        name: '${storage.outputs.name}-blob'
        serviceId: storage.outputs.id
        groupId: 'blob'
        dnsZone: 'privatelink.blob.${environment().suffixes.storage}'
      }
      {
        name: '${storage.outputs.name}-queue'
        serviceId: storage.outputs.id
        groupId: 'queue'
        dnsZone: 'privatelink.queue.${environment().suffixes.storage}'
      }
      {
        name: '${cosmos.outputs.name}-sql'
        serviceId: cosmos.outputs.id
        groupId: 'Sql'
        dnsZone: 'privatelink.documents.azure.com'
      }
      {
        name: '${keyVault.outputs.name}-vault'
        serviceId: keyVault.outputs.id
        groupId: 'vault'
        dnsZone: 'privatelink.vaultcore.azure.net'
      }
    ]
  }
}

module openAiAccess 'app/openai-access.bicep' = if (useAzureOpenAi) {
  name: 'openai-access'
  scope: resourceGroup(!empty(azureOpenAiResourceGroupName) ? azureOpenAiResourceGroupName : rg.name)
  params: {
    accountName: azureOpenAiAccountName
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitor.outputs.applicationInsightsName
    cosmosAccountName: cosmos.outputs.name
  }
}

module api 'app/function.bicep' = {
  name: 'api'
  scope: rg
  dependsOn: [
    rbac
  ]
  params: {
    name: functionAppResolvedName
    planName: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitor.outputs.connectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmosDatabaseName
    jobsQueueName: jobsQueueName
    webhooksQueueName: webhooksQueueName
    inputsContainerName: inputsContainerName
    imagesContainerName: imagesContainerName
    thumbnailsContainerName: thumbnailsContainerName
    defaultProvider: defaultProvider
    providerQuotas: providerQuotas
    geminiModels: geminiModels
    geminiApiKeyReference: keyVault.outputs.geminiApiKeyReference
    azureOpenAiEndpoint: useAzureOpenAi ? openAiAccess.outputs.endpoint : ''
    azureOpenAiDeployments: azureOpenAiDeployments
    azureOpenAiApiVersion: azureOpenAiApiVersion
    azureOpenAiApiKeyReference: keyVault.outputs.azureOpenAiApiKeyReference
    publicApiBaseUrl: publicApiBaseUrl
    playgroundEnabled: playgroundEnabled
    apiKeyHashSecretReference: keyVault.outputs.apiKeyHashSecretReference
    adminApiKeyReference: keyVault.outputs.adminApiKeyReference
    imageLinkSigningKeysReference: keyVault.outputs.imageLinkSigningKeysReference
    oidcIssuer: oidcIssuer
    oidcAudience: oidcAudience
    virtualNetworkSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  dependsOn: [
    rbac
  ]
  params: {
    systemTopicName: !empty(eventGridSystemTopicName) ? eventGridSystemTopicName : '${abbrs.eventGridSystemTopics}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    identityId: identity.outputs.id
    deployEventSubscriptions: deployEventSubscriptions
    functionAppId: api.outputs.id
    imagesContainerName: imagesContainerName
    deadLetterContainerName: deadLetterContainerName
    // Event Grid cannot write into a storage account whose public network access is off.
    deadLetterEnabled: !vnetEnabled
    externalEndpointUrl: externalEventEndpointUrl
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostName}/api'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output AZURE_COSMOS_DATABASE string = cosmosDatabaseName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitor.outputs.connectionString
output EVENT_GRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.systemTopicName
output EVENT_GRID_IMAGES_SUBJECT_BEGINS_WITH string = eventGrid.outputs.imagesSubjectBeginsWith
