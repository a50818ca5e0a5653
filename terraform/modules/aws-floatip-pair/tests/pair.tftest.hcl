# Offline checks with a mocked AWS provider (`terraform test`, Terraform >= 1.7): no credentials,
# no API calls. Node a's rendered config must equal examples-rendered/*.yaml, which
# test/unit/terraform-config.test.ts loads with floatip's own config loader.

mock_provider "aws" {
  mock_resource "aws_eip" {
    defaults = {
      allocation_id = "eipalloc-0123456789abcdef0"
      public_ip     = "203.0.113.10"
    }
  }
  mock_data "aws_eip" {
    defaults = {
      public_ip = "203.0.113.20"
    }
  }
  mock_resource "aws_security_group" {
    defaults = {
      id = "sg-0123456789abcdef0"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/web-floatip"
    }
  }
}

override_resource {
  target = aws_network_interface.node[0]
  values = {
    id         = "eni-0aaaaaaaaaaaaaaa0"
    arn        = "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0aaaaaaaaaaaaaaa0"
    private_ip = "10.0.1.10"
  }
}

override_resource {
  target = aws_network_interface.node[1]
  values = {
    id         = "eni-0bbbbbbbbbbbbbbb0"
    arn        = "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0bbbbbbbbbbbbbbb0"
    private_ip = "10.0.2.10"
  }
}

override_resource {
  target = aws_instance.node[0]
  values = {
    arn = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa0"
  }
}

override_resource {
  target = aws_instance.node[1]
  values = {
    arn = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0bbbbbbbbbbbbbbb0"
  }
}

variables {
  name       = "web"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0aaaaaaaaaaaaaaa0", "subnet-0bbbbbbbbbbbbbbb0"]
  ami_id     = "ami-0123456789abcdef0"
}

run "eip_new_address" {
  command = apply

  variables {
    mechanism = "eip"
  }

  assert {
    condition     = output.floatip_configs[0] == file("examples-rendered/eip.yaml")
    error_message = "node a's config differs from examples-rendered/eip.yaml:\n${output.floatip_configs[0]}"
  }
  assert {
    condition     = strcontains(output.floatip_configs[1], "source: 10.0.2.10\n      peers: [10.0.1.10]") && strcontains(output.floatip_configs[1], "priority: 100\n")
    error_message = "node b must advertise from its own IP to node a's, with the lower priority"
  }
  assert {
    condition     = output.iam_actions == jsondecode(file("permissions.json")).actions.eip.release
    error_message = "eip with release_on_leave must allow permissions.json's eip.release list"
  }
  assert {
    condition = jsondecode(output.iam_policy_json).Statement == [
      {
        Sid       = "ReadBack"
        Effect    = "Allow"
        Action    = ["ec2:DescribeAddresses", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces"]
        Resource  = "*"
        Condition = { StringEquals = { "ec2:Region" = "eu-west-1" } }
      },
      {
        Sid    = "AssociateAddress"
        Effect = "Allow"
        Action = "ec2:AssociateAddress"
        Resource = [
          "arn:aws:ec2:eu-west-1:111122223333:elastic-ip/eipalloc-0123456789abcdef0",
          "arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa0",
          "arn:aws:ec2:eu-west-1:111122223333:instance/i-0bbbbbbbbbbbbbbb0",
          "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0aaaaaaaaaaaaaaa0",
          "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0bbbbbbbbbbbbbbb0",
        ]
      },
      {
        Sid    = "DisassociateAddress"
        Effect = "Allow"
        Action = "ec2:DisassociateAddress"
        Resource = [
          "arn:aws:ec2:eu-west-1:111122223333:elastic-ip/eipalloc-0123456789abcdef0",
          "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0aaaaaaaaaaaaaaa0",
          "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0bbbbbbbbbbbbbbb0",
        ]
      },
    ]
    error_message = "eip policy: ${output.iam_policy_json}"
  }
  assert {
    condition     = alltrue(aws_network_interface.node[*].source_dest_check)
    error_message = "source/destination check stays on unless the nodes forward (route)"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.vrrp.ip_protocol == "112" && aws_vpc_security_group_ingress_rule.vrrp.referenced_security_group_id == aws_security_group.vrrp.id
    error_message = "the ingress rule must allow IP protocol 112 from the group itself only"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.vrrp.ip_protocol == "112" && aws_vpc_security_group_egress_rule.vrrp.referenced_security_group_id == aws_security_group.vrrp.id
    error_message = "the egress rule must allow IP protocol 112 to the group itself only"
  }
  assert {
    condition     = aws_instance.node[0].metadata_options[0].http_tokens == "required"
    error_message = "IMDSv2 only"
  }
  assert {
    condition     = strcontains(base64decode(regex("content: ([A-Za-z0-9+/=]+)\n", aws_instance.node[0].user_data)[0]), "allocation_id: eipalloc-0123456789abcdef0")
    error_message = "cloud-init must write node a's floatip config first"
  }
}

run "eip_existing_address_kept_on_leave" {
  command = apply

  variables {
    mechanism         = "eip"
    create_eip        = false
    eip_allocation_id = "eipalloc-0fedcba9876543210"
    release_on_leave  = false
  }

  assert {
    condition     = length(aws_eip.this) == 0 && output.eip_public_ip == "203.0.113.20"
    error_message = "an existing Elastic IP is looked up, not created"
  }
  assert {
    condition     = output.iam_actions == jsondecode(file("permissions.json")).actions.eip.keep && !contains(output.iam_actions, "ec2:DisassociateAddress")
    error_message = "release_on_leave = false drops ec2:DisassociateAddress"
  }
  assert {
    condition     = strcontains(output.floatip_configs[0], "allocation_id: eipalloc-0fedcba9876543210\n        detach_on_release: false\n")
    error_message = "the config must name the existing allocation and detach_on_release: false"
  }
}

run "eip_rejects_virtual_ip" {
  command = plan

  variables {
    mechanism  = "eip"
    virtual_ip = "10.0.1.50"
  }

  expect_failures = [aws_network_interface.node]
}

run "secondary_ip" {
  command = apply

  variables {
    mechanism  = "secondary-ip"
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaa0", "subnet-0aaaaaaaaaaaaaaa0"]
    virtual_ip = "10.0.1.50"
  }

  assert {
    condition     = output.floatip_configs[0] == file("examples-rendered/secondary-ip.yaml")
    error_message = "node a's config differs from examples-rendered/secondary-ip.yaml:\n${output.floatip_configs[0]}"
  }
  assert {
    condition     = output.iam_actions == jsondecode(file("permissions.json")).actions["secondary-ip"].release
    error_message = "secondary-ip must allow permissions.json's secondary-ip.release list"
  }
  assert {
    condition = [for s in jsondecode(output.iam_policy_json).Statement : s.Resource if s.Sid == "AssignPrivateIpAddresses"] == [[
      "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0aaaaaaaaaaaaaaa0",
      "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0bbbbbbbbbbbbbbb0",
    ]]
    error_message = "AssignPrivateIpAddresses must be scoped to the two interfaces: ${output.iam_policy_json}"
  }
  assert {
    condition     = aws_ec2_subnet_cidr_reservation.virtual_ip[0].cidr_block == "10.0.1.50/32" && aws_ec2_subnet_cidr_reservation.virtual_ip[0].reservation_type == "explicit"
    error_message = "the VIP must be reserved in the subnet"
  }
}

run "secondary_ip_needs_one_subnet" {
  command = plan

  variables {
    mechanism  = "secondary-ip"
    virtual_ip = "10.0.1.50"
  }

  expect_failures = [aws_network_interface.node]
}

run "route" {
  command = apply

  variables {
    mechanism       = "route"
    virtual_ip      = "192.168.100.10"
    route_table_ids = ["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"]
  }

  assert {
    condition     = output.floatip_configs[0] == file("examples-rendered/route.yaml")
    error_message = "node a's config differs from examples-rendered/route.yaml:\n${output.floatip_configs[0]}"
  }
  assert {
    condition     = !anytrue(aws_network_interface.node[*].source_dest_check)
    error_message = "route: both nodes forward traffic for the VIP, so source/destination check must be off"
  }
  assert {
    condition     = output.iam_actions == jsondecode(file("permissions.json")).actions.route.release
    error_message = "route must allow permissions.json's route list"
  }
  assert {
    condition = [for s in jsondecode(output.iam_policy_json).Statement : s.Resource if contains(["CreateRoute", "ReplaceRoute"], s.Sid)] == [
      ["arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-0123456789abcdef0", "arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-0fedcba9876543210"],
      ["arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-0123456789abcdef0", "arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-0fedcba9876543210"],
    ]
    error_message = "CreateRoute and ReplaceRoute must be scoped to the route tables: ${output.iam_policy_json}"
  }
}

run "route_needs_tables" {
  command = plan

  variables {
    mechanism  = "route"
    virtual_ip = "192.168.100.10"
  }

  expect_failures = [aws_network_interface.node]
}
