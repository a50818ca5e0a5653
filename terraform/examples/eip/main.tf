# An Elastic IP that follows the VRRP master of two nodes in two availability zones.
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
variable "subnet_ids" { type = list(string) } # public subnets in two AZs
variable "ami_id" { type = string }           # e.g. Amazon Linux 2023

# The module's own group allows VRRP only; the nodes still reach the EC2 API and npm over HTTPS.
resource "aws_security_group" "egress" {
  name   = "web-egress"
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

  name                          = "web"
  vpc_id                        = var.vpc_id
  subnet_ids                    = var.subnet_ids
  ami_id                        = var.ami_id
  mechanism                     = "eip"
  additional_security_group_ids = [aws_security_group.egress.id]
  install_commands              = ["dnf install -y nodejs20 nodejs20-npm gcc-c++ make python3"]
}

output "public_ip" {
  value = module.pair.eip_public_ip
}
