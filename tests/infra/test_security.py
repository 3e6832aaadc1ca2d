"""The security properties the service relies on, read from the templates: no keys anywhere."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.bicep import INFRA, Template, config, main


def _only(template: Template, type_: str) -> dict[str, Any]:
    resources = template.resources(type_)
    assert len(resources) == 1, f"{type_}: {sorted(resources)}"
    return config(next(iter(resources.values())))


def test_storage_refuses_shared_keys_and_public_blobs() -> None:
    account = _only(main().module("storage"), "Microsoft.Storage/storageAccounts")
    properties = account["properties"]

    assert properties["allowSharedKeyAccess"] is False
    assert properties["allowBlobPublicAccess"] is False
    assert properties["minimumTlsVersion"] == "TLS1_2"
    assert properties["supportsHttpsTrafficOnly"] is True


def test_containers_are_private() -> None:
    storage = main().module("storage")
    containers = storage.resources("Microsoft.Storage/storageAccounts/blobServices/containers")

    assert containers
    assert all(config(c)["properties"]["publicAccess"] == "None" for c in containers.values())


def test_inputs_are_deleted_after_the_retention_period() -> None:
    storage = main().module("storage")
    policy = _only(storage, "Microsoft.Storage/storageAccounts/managementPolicies")
    (rule,) = storage.resolve(policy["properties"]["policy"]["rules"])

    assert rule["definition"]["filters"]["prefixMatch"] == ["inputs/"]
    assert rule["definition"]["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 7


def test_cosmos_refuses_keys() -> None:
    account = _only(main().module("cosmos"), "Microsoft.DocumentDB/databaseAccounts")

    assert account["properties"]["disableLocalAuth"] is True
    assert account["properties"]["disableKeyBasedMetadataWriteAccess"] is True


def test_cosmos_is_serverless_by_default() -> None:
    cosmos = main().module("cosmos")
    account = _only(cosmos, "Microsoft.DocumentDB/databaseAccounts")

    assert cosmos.resolve("capacityMode") == "serverless"
    assert "EnableServerless" in str(account["properties"]["capabilities"])


def _vault_properties(**parameters: object) -> dict[str, Any]:
    key_vault = main(**parameters).module("keyVault")
    return dict(key_vault.resolve(_only(key_vault, "Microsoft.KeyVault/vaults")["properties"]))


def test_key_vault_uses_rbac_and_soft_delete_and_purge_protection_only_when_asked() -> None:
    properties = _vault_properties()

    assert properties["enableRbacAuthorization"] is True
    assert properties["enableSoftDelete"] is True
    # Off by default (dev environments: azd down --purge frees the name), and then not sent at all: a
    # vault that already has purge protection refuses `false`.
    assert properties["enablePurgeProtection"] is None
    assert _vault_properties(keyVaultPurgeProtection=True)["enablePurgeProtection"] is True
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["keyVaultPurgeProtection"] == {"value": "${KEY_VAULT_PURGE_PROTECTION=false}"}


@pytest.mark.parametrize("vnet_enabled", [False, True])
def test_data_services_take_public_traffic_only_without_vnet_enabled(vnet_enabled: bool) -> None:
    template = main(vnetEnabled=vnet_enabled)
    storage = template.module("storage")
    cosmos = template.module("cosmos")
    account = storage.resolve(_only(storage, "Microsoft.Storage/storageAccounts")["properties"])
    database = cosmos.resolve(_only(cosmos, "Microsoft.DocumentDB/databaseAccounts")["properties"])
    vault = _vault_properties(vnetEnabled=vnet_enabled)

    public = "Disabled" if vnet_enabled else "Enabled"
    default_action = "Deny" if vnet_enabled else "Allow"
    assert (account["publicNetworkAccess"], account["networkAcls"]["defaultAction"]) == (
        public,
        default_action,
    )
    assert database["publicNetworkAccess"] == public
    assert (vault["publicNetworkAccess"], vault["networkAcls"]["defaultAction"]) == (public, default_action)


def test_vnet_enabled_integrates_the_app_and_gives_each_data_service_a_private_endpoint() -> None:
    assert main().resolve("vnetEnabled") is False
    assert "condition" in main().data["modules"]["network"]["config"]
    template = main(vnetEnabled=True)
    network = template.module("network")
    (vnet,) = [config(r) for r in network.resources("Microsoft.Network/virtualNetworks").values()]
    subnets = {s["name"]: s["properties"] for s in network.resolve(vnet["properties"]["subnets"])}

    app_subnet = subnets[network.resolve("appSubnetName")]
    assert [d["properties"]["serviceName"] for d in app_subnet["delegations"]] == [
        "Microsoft.App/environments"
    ]
    assert (
        subnets[network.resolve("privateEndpointSubnetName")]["privateEndpointNetworkPolicies"] == "Disabled"
    )
    assert all("networkSecurityGroup" in subnet for subnet in subnets.values())
    links = {(link["groupId"], link["dnsZone"].split(".")[1]) for link in network.resolve("privateLinks")}
    assert links == {("blob", "blob"), ("queue", "queue"), ("Sql", "documents"), ("vault", "vaultcore")}
    # Each endpoint is registered in its zone, and each zone is linked to the network.
    for resource_type in (
        "Microsoft.Network/privateDnsZones",
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "Microsoft.Network/privateEndpoints",
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    ):
        (resource,) = network.resources(resource_type).values()
        assert resource["config"]["loop_type"]["detail"]["array_name"] == "privateLinks", resource_type
    api = template.module("api")
    site = _only(api, "Microsoft.Web/sites")
    assert api.resolve("virtualNetworkSubnetId") != ""
    assert "virtualNetworkSubnetId" in site["properties"]
    assert main().module("api").resolve("virtualNetworkSubnetId") == ""


@pytest.mark.parametrize("vnet_enabled", [False, True])
def test_event_grid_dead_letters_only_into_a_reachable_account(vnet_enabled: bool) -> None:
    delivery = main(vnetEnabled=vnet_enabled).module("eventGrid").resolve("deliveryPolicy")

    assert ("deadLetterWithResourceIdentity" in delivery) is not vnet_enabled
    # Thumbnails keep coming: delivery to the function is unchanged.
    assert delivery["filter"]["includedEventTypes"] == ["Microsoft.Storage.BlobCreated"]


def test_application_insights_takes_entra_auth_only() -> None:
    component = _only(main().module("monitor"), "Microsoft.Insights/components")

    assert component["properties"]["DisableLocalAuth"] is True


def test_function_app_is_locked_down() -> None:
    api = main().module("api")
    site = _only(api, "Microsoft.Web/sites")
    properties = site["properties"]
    site_config = properties["siteConfig"]

    assert site["identity"]["type"] == "UserAssigned"
    assert properties["httpsOnly"] is True
    assert site_config["minTlsVersion"] == "1.2"
    assert site_config["ftpsState"] == "Disabled"
    assert site_config["remoteDebuggingEnabled"] is False
    function_config = properties["functionAppConfig"]
    assert function_config["runtime"] == {"name": "python", "version": "3.13"}
    assert set(function_config["scaleAndConcurrency"]) >= {"maximumInstanceCount", "instanceMemoryMB"}
    assert function_config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    plan = _only(api, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}


def test_secret_parameters_are_secure() -> None:
    for template in (main(), main().module("keyVault"), main().module("eventGrid")):
        for name, parameter in template.data["parameters"].items():
            if re.search(r"ApiKey$|Url$", name) and "Reference" not in name and "Base" not in name:
                decorators = [d["type"] for d in parameter["decorators"]]
                assert "secure" in decorators, f"{template.path.name}: {name}"


def test_every_role_assignment_is_named_by_scope_principal_and_role() -> None:
    for path in (INFRA / "app" / "rbac.bicep", INFRA / "app" / "openai-access.bicep"):
        template = Template(path)
        text = path.read_text()
        assignments = {
            **template.resources("Microsoft.Authorization/roleAssignments"),
            **template.resources("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"),
        }
        assert assignments
        for name, resource in assignments.items():
            guid = config(resource)["name"]["function"]
            assert guid["type"] == "guid", name
            scope, principal, role = guid["parameters"].values()
            assert principal.endswith("PrincipalId"), name
            # The role id is a variable whose declaration is preceded by a comment naming the role.
            declaration = re.search(rf"//\s*(.+)\nvar {role} = '([0-9a-f-]{{36}})'", text)
            assert declaration, f"{name}: role {role} has no named declaration"
            assert scope


def test_the_roles_the_app_needs_are_assigned() -> None:
    text = (INFRA / "app" / "rbac.bicep").read_text()

    for role in (
        "Storage Blob Data Owner",
        "Storage Queue Data Contributor",
        "Key Vault Secrets User",
        "Monitoring Metrics Publisher",
        "Cosmos DB Built-in Data Contributor",
    ):
        assert f"// {role}" in text
    assert "// Cognitive Services OpenAI User" in (INFRA / "app" / "openai-access.bicep").read_text()
