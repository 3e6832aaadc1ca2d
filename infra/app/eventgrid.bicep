// Event Grid: a system topic on the storage account, a subscription delivering BlobCreated events of the
// generated-images container to the app's Event Grid function, and optionally a second one to an external
// endpoint. Undeliverable events are dead-lettered to a container (unless the storage account takes no
// public traffic, vnetEnabled: Event Grid cannot reach it then). Delivery to the function goes to its
// public endpoint, which VNet integration (outbound only) leaves as it is.
//
// A subscription to a function is validated against the deployed code, so on a first `azd up` the
// subscriptions are created by the postdeploy hook (azure.yaml), which re-provisions with
// deployEventSubscriptions=true once the code is there.
@description('Name of the system topic.')
param systemTopicName string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object = {}

@description('Name of the storage account whose events are published.')
param storageAccountName string

@description('Resource id of the user-assigned identity used for dead-lettering.')
param identityId string

@description('Create the event subscriptions (needs the app code deployed).')
param deployEventSubscriptions bool = false

@description('Resource id of the Function App.')
param functionAppId string

@description('Name of the Event Grid-triggered function that makes thumbnails.')
param thumbnailFunctionName string = 'make_thumbnail'

@description('Container of generated images.')
param imagesContainerName string

@description('Container receiving events that could not be delivered.')
param deadLetterContainerName string

@description('Dead-letter undeliverable events into deadLetterContainerName (impossible when the account takes no public traffic).')
param deadLetterEnabled bool = true

@secure()
@description('HTTPS endpoint of an external consumer of new images (Event Grid schema); empty for none.')
param externalEndpointUrl string = ''

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes an event is retried before it is dead-lettered.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

// The subject filter of generated images; external consumers use the same (docs/events.md).
var imagesSubjectBeginsWith = '/blobServices/default/containers/${imagesContainerName}/blobs/images/'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

var deliveryPolicy = union({
  eventDeliverySchema: 'EventGridSchema'
  filter: {
    includedEventTypes: [
      'Microsoft.Storage.BlobCreated'
    ]
    subjectBeginsWith: imagesSubjectBeginsWith
    enableAdvancedFilteringOnArrays: true
  }
  retryPolicy: {
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
}, deadLetterEnabled ? {
  deadLetterWithResourceIdentity: {
    identity: {
      type: 'UserAssigned'
      userAssignedIdentity: identityId
    }
    deadLetterDestination: {
      endpointType: 'StorageBlob'
      properties: {
        resourceId: storage.id
        blobContainerName: deadLetterContainerName
      }
    }
  }
} : {})

resource thumbnails 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = if (deployEventSubscriptions) {
  parent: systemTopic
  name: 'thumbnails'
  properties: union(deliveryPolicy, {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${thumbnailFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
  })
}

resource external 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = if (!empty(externalEndpointUrl)) {
  parent: systemTopic
  name: 'external-images'
  properties: union(deliveryPolicy, {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: externalEndpointUrl
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
  })
}

output systemTopicName string = systemTopic.name
output imagesSubjectBeginsWith string = imagesSubjectBeginsWith
