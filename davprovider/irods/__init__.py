"""davprovider/irods"""
