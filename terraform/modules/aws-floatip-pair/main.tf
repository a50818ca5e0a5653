# Two floatip nodes. Each node's primary network interface is its own resource, created before the
# instances: each node's config names the other node's private IP, and the IAM policy names both
# interfaces, so the addresses and ids must exist before either instance boots.

locals {
  nodes = ["a", "b"]

  eip_allocation_id = var.mechanism != "eip" ? null : (
    var.create_eip ? aws_eip.this[0].allocation_id : var.eip_allocation_id
  )
  eip_public_ip = var.mechanism != "eip" ? null : (
    var.create_eip ? aws_eip.this[0].public_ip : data.aws_eip.existing[0].public_ip
  )

  # VRRPv3 adverts carry an address: the Elastic IP's for eip, the private VIP otherwise.
  vrrp_address = var.mechanism == "eip" ? local.eip_public_ip : var.virtual_ip
  route_destinations = (length(var.route_destinations) > 0 || var.virtual_ip == null
    ? var.route_destinations
    : ["${var.virtual_ip}/32"]
  )

  # The values templates/floatip-MECHANISM.yaml.tftpl is rendered with, per node.
  # test/unit/terraform-config.test.ts checks that these keys are exactly the templates' placeholders.
  config_vars = [for i in range(2) : {
    name             = var.name
    router_id        = "${var.name}-${local.nodes[i]}"
    interface        = var.interface_name
    vrid             = var.vrid
    priority         = var.priorities[i]
    advert_interval  = var.advert_interval
    self_ip          = aws_network_interface.node[i].private_ip
    peer_ip          = aws_network_interface.node[1 - i].private_ip
    vrrp_address     = local.vrrp_address
    allocation_id    = coalesce(local.eip_allocation_id, "-")
    release_on_leave = var.release_on_leave
    route_tables     = "[${join(", ", var.route_table_ids)}]"
    destinations     = "[${join(", ", local.route_destinations)}]"
  }]
  # end of config_vars

  floatip_configs = [for i in range(2) :
    templatefile("${path.module}/templates/floatip-${var.mechanism}.yaml.tftpl", local.config_vars[i])
  ]

  user_data = [for i in range(2) : templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    config_b64       = base64encode(local.floatip_configs[i])
    unit_b64         = base64encode(file("${path.module}/templates/floatip.service"))
    install_commands = var.install_commands
    floatip_package  = var.floatip_package
  })]
}

resource "aws_eip" "this" {
  count  = var.mechanism == "eip" && var.create_eip ? 1 : 0
  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-floatip" })

  lifecycle {
    # floatip associates the address with the master's interface; Terraform must not undo that.
    ignore_changes = [network_interface, instance, associate_with_private_ip]
  }
}

data "aws_eip" "existing" {
  count = var.mechanism == "eip" && !var.create_eip ? 1 : 0
  id    = var.eip_allocation_id
}

resource "aws_security_group" "vrrp" {
  name        = "${var.name}-floatip-vrrp"
  description = "VRRP (IP protocol 112) between the two floatip nodes of ${var.name}, nothing else"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-floatip-vrrp" })
}

# Terraform removes the default allow-all egress rule of a group it creates, so the group allows
# exactly these two rules: VRRP in from, and out to, members of the same group.
resource "aws_vpc_security_group_ingress_rule" "vrrp" {
  security_group_id            = aws_security_group.vrrp.id
  description                  = "VRRP adverts from the peer node"
  ip_protocol                  = "112"
  referenced_security_group_id = aws_security_group.vrrp.id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "vrrp" {
  security_group_id            = aws_security_group.vrrp.id
  description                  = "VRRP adverts to the peer node"
  ip_protocol                  = "112"
  referenced_security_group_id = aws_security_group.vrrp.id
  tags                         = var.tags
}

resource "aws_network_interface" "node" {
  count           = 2
  subnet_id       = var.subnet_ids[count.index]
  security_groups = concat([aws_security_group.vrrp.id], var.additional_security_group_ids)
  # A node forwards traffic addressed to the VIP only with the check off; floatip's route
  # provider warns at start otherwise.
  source_dest_check = var.mechanism != "route"
  description       = "${var.name}-${local.nodes[count.index]} floatip node"
  tags              = merge(var.tags, { Name = "${var.name}-${local.nodes[count.index]}" })

  lifecycle {
    # secondary-ip moves the VIP between these interfaces at run time.
    ignore_changes = [private_ips, private_ips_count, private_ip_list, private_ip_list_enabled]

    precondition {
      condition     = var.mechanism != "secondary-ip" || var.subnet_ids[0] == var.subnet_ids[1]
      error_message = "mechanism secondary-ip needs both nodes in one subnet (a private IP belongs to one subnet): give the same subnet id twice in subnet_ids, or use mechanism route across subnets."
    }
    precondition {
      condition     = var.mechanism == "eip" ? var.virtual_ip == null : var.virtual_ip != null
      error_message = "virtual_ip is the floating private address of secondary-ip and route, and must be null for eip (the Elastic IP's public address is used)."
    }
    precondition {
      condition     = var.mechanism != "eip" || var.create_eip == (var.eip_allocation_id == null)
      error_message = "mechanism eip: either create_eip = true, or create_eip = false with eip_allocation_id set to an existing Elastic IP."
    }
    precondition {
      condition     = var.mechanism != "route" || length(var.route_table_ids) > 0
      error_message = "mechanism route needs route_table_ids: at least one route table to point at the master."
    }
    precondition {
      condition     = var.priorities[0] != var.priorities[1]
      error_message = "priorities must differ, so which node is master when both are up does not hang on an address comparison."
    }
  }
}

resource "aws_ec2_subnet_cidr_reservation" "virtual_ip" {
  count            = var.mechanism == "secondary-ip" && var.reserve_virtual_ip ? 1 : 0
  subnet_id        = var.subnet_ids[0]
  cidr_block       = "${var.virtual_ip}/32"
  reservation_type = "explicit"
  description      = "${var.name} floatip virtual IP, assigned by floatip to the master only"
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.name}-floatip"
  role = aws_iam_role.node.name
  tags = var.tags
}

resource "aws_instance" "node" {
  count                       = 2
  ami                         = var.ami_id
  instance_type               = var.instance_type
  key_name                    = var.key_name
  iam_instance_profile        = aws_iam_instance_profile.node.name
  user_data                   = local.user_data[count.index]
  user_data_replace_on_change = true

  network_interface {
    network_interface_id = aws_network_interface.node[count.index].id
    device_index         = 0
  }

  metadata_options {
    # floatip's identity lookups use IMDSv2 only.
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tags = merge(var.tags, { Name = "${var.name}-${local.nodes[count.index]}" })
}
