# An address outside the VPC CIDR, reached through route table entries that follow the master:
# works across availability zones, unlike a secondary IP.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

provider "aws" {
  region = var.region
}

variable "region" { type = string }
variable "vpc_id" { type = string }
variable "subnet_ids" { type = list(string) }      # two AZs
variable "route_table_ids" { type = list(string) } # the tables of the subnets whose clients use the VIP
variable "ami_id" { type = string }

resource "aws_security_group" "egress" {
  name   = "gw-egress"
  vpc_id = var.vpc_id
  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

module "pair" {
  source = "../../modules/aws-floatip-pair"

  name                          = "gw"
  vpc_id                        = var.vpc_id
  subnet_ids                    = var.subnet_ids
  ami_id                        = var.ami_id
  mechanism                     = "route"
  virtual_ip                    = "192.168.100.10"
  route_table_ids               = var.route_table_ids
  additional_security_group_ids = [aws_security_group.egress.id]
  install_commands              = ["dnf install -y nodejs20 nodejs20-npm gcc-c++ make python3"]
}

output "network_interface_ids" {
  value = module.pair.network_interface_ids
}
